"""The bureau's monthly compliance export: workbook, CSVs, PDF report and a versioned manifest."""
