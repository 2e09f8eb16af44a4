"""Messaging's pages, each module one area: `inbox` (the conversation inbox),
`webhooks` (the receiver TxtSync POSTs to), `txtsync_settings` (Settings → TxtSync)."""
