"""forecast: the value(s) of a time series some steps ahead (sequence input, time_series layout)."""
