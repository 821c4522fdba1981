"""Stage 3, reading: a submission's files become its record.

`readers` turn a .docx/.xlsx/.pdf into cell grids (`grid`), `extract` finds each form and its fields by
the labels of `forms/`, `values` turns cell text into the record's values, `submission` assembles one
submission's record. May import `common`, `definitions` and `receiving`.
"""
