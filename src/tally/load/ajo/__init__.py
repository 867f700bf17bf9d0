"""The `ajo` layout of `tally load`: the platform's own exports, read as it writes them.

Adobe Journey Optimizer (AJO) records every send and every interaction in system datasets
with nested XDM records (docs/decisions.md, "AJO layout"). This package reads dataset exports of
the Message Feedback, Email Tracking and Push Tracking datasets (newline-delimited JSON,
gzipped or not, and nested Parquet) and of the Entity dataset, and lands them in the same
raw tables as the flat contract, with the same promises: one transaction per invocation, a
file already loaded into a table is skipped, a file that is not such an export is refused
whole (the file and the first missing field path named; exit 2), every value lands as
text for staging to judge. The mapping is decided in docs/decisions.md ("AJO layout").

How a file is read:
1. Its structure (JSON: the keys of its first 20,000 records; Parquet: its schema) tells
   the dataset, by required field paths, matched case-insensitively (the platform's own
   queries spell both `messagedeliveryfeedback` and `messageDeliveryfeedback`).
2. Every field path the mapping reads (the dataset's schema below) is resolved against
   that structure: present, it is read (as text); absent, it is null. Other fields are
   ignored and named in `raw._ajo_file_audit`.
3. A JSON file is parsed once, in memory, with an explicit schema in the file's own key
   case, before the warehouse is opened: a truncated gzip or a line that is not an object
   refuses the file with nothing loaded. A Parquet file is read where it is, each
   statement reading only the nested columns it needs.
4. One `insert ... select` per target table flattens the records into the contract's
   columns, and one more keeps the fields the mapping reads, addresses hashed, in
   `raw.ajo_event_records` / `raw.ajo_entity_records` for mapping questions. No Python
   loop touches a row.

The modules, in the order a file goes through them: schema (the datasets and the field
paths read), structure (a file's own spelling of them), stage (reading and identifying a
file), values and mapping (the records as contract rows), land (the transaction).
"""

from tally.load.ajo.land import load

__all__ = ["load"]
