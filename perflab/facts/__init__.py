"""Host facts: what to read on a host, and pure functions that turn it into data.

A fact is tiny (pyinfra's lesson): the files and commands it needs, and a pure
parser of their text. Gathering goes through one host-side probe call so a
remote runner costs one round trip; everything here but ``gather`` is pure.
"""
