"""The Recraft API as data and calls: the operations table, its rules, requests, answers.

catalog      models, sizes, styles, limits and prices, from Recraft's docs
operations   the operations table: path, fields, files, outputs and form hints of each
rules        the cross-field rules the table's entries point at
validation   every documented rule, checked before any byte is sent
forms        what a form shows for an operation and a model
wire         a checked request as it goes on the wire (JSON or multipart)
transport    HTTP: one session, timeouts, safe retries, cancel, progress
results      typed answers
client       Client: one method per operation
"""
