"""An HTTP API test suite for mtrun: create, read, update and delete users, per role."""
