"""What each `styleforge` command does: `commands/<name>.py` has `run(args)` for the options that
`cli/<name>.py` parses. Imported only when that command runs."""
