"""Telling the merchant about orders: channels (webhook, email, Telegram, the owners'
WhatsApp), the retry schedule, and the worker that delivers what storage queued."""
