"""The packet stage: the Word packets, blank or pre-filled from a roster, and their PDFs.

`packet` writes the packets, `summary_table` the 推荐汇总表 filled from records, `program_forms` the sister
programs' forms and packets. The Word templates they fill are built, rendered and checked by `pipeline.word`.
May import `pipeline.common`, `pipeline.definitions`, `pipeline.word` and the stages below the packet stage.
"""
