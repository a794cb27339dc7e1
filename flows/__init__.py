"""The conversation state machine: typed events in, a new state and typed messages out.

Nothing in this package performs I/O, reads a clock or draws random numbers: time, ids and the
catalog arrive as data in a `StepContext`. That keeps every transition testable as a plain
function call (the h11 model).
"""
