"""Every paid call goes through here, so "never pay twice" is written once.

- `send.py`: `send_paid()` for a billed request that answers at once (an image, speech), sent again only when the
  answer proves nothing was made, and `ledger_entry()` that records it against the caps.
- `jobs.py`: `PaidJobs`, the runner of a paid remote task (a clip, a first frame, Runway's speech) over a small vendor
  adapter: reserve in the ledger, create, wait with a deadline, download, verify, record.
- `inflight.py`: the tasks this process waits on, so Ctrl-C cancels those not started yet.
- `download.py`: one connection pool, and downloads that are checked.
"""
