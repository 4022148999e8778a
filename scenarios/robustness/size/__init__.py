"""Size cases (opt-in: ``--include size``): fields 1,000 times their maxLength, frames of 1, 16 and
64 MB, JSON nested 10,000 deep, 1e308 where an integer is expected."""
