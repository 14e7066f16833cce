"""Pure domain logic: no I/O, no framework imports, no reading of the clock.

Everything here takes the current time as an argument and can be tested on its own.
"""
