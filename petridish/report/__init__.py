"""Results as a terminal table, plots and a self-contained HTML page."""
