"""Stage 2, receiving: an inbox becomes submissions and files, before anything is read.

`inbox` walks folders and archives (GBK names, limits, one submission per entry), `attachments`
classifies the files that are not forms. May import `pipeline.common` and `pipeline.definitions`.
"""
