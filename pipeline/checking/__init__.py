"""Stage 4, checking: the program's rules over records.

`rules` adds the issues of one record and of a batch; `screen` rates records against a program's
criteria. May import `common`, `definitions`, `receiving` and `reading`.
"""
