"""The audit: trails in words, checkpoints, verification of a whole store, exports.

Works on the stored log through the storage layer; knows no application.
"""
