"""Stage 5, issuing: what goes out of the association, made from records.

`workbook` is the staff's summary.xlsx, `notices` the 补正通知, `certificates` the certificates and
`register` their numbers. May import every lower stage (`generating` for templates and rendering).
"""
