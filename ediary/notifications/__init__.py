"""Notifications to parents outside the page: e-mail and SMS, through a durable queue.

`enqueue` turns journal events into queued messages in the transaction that writes the events;
`sender` sends them outside any request (`ediary send-notifications`), with retries, quiet hours
and daily digests; `gateways` holds the SMTP and SMSAPI implementations.
"""
