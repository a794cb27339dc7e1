"""Every `web.AppKey` of the application, in one place (aiohttp's "Web advanced" advice)."""

import aiohttp
from aiohttp import web

from bot.jobs import JobRunner
from bot.merchant.dashboard.session import Dashboard
from bot.merchant.orders import MerchantOrders
from bot.merchant.stock import MerchantStock
from bot.merchant.worker import AlertWorker
from bot.outbox import OutboxSender
from bot.payments.base import PaymentProvider
from bot.payments.reconcile import PaymentReconciler
from bot.reminders import ReminderScheduler
from bot.routes.bodies import WebhookBodies
from bot.runner import Runner
from bot.settings import Settings
from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.receipts import ReadReceipts
from flows.catalog import ShopConfig
from storage.repository import Store

SETTINGS = web.AppKey("settings", Settings)
SHOP = web.AppKey("shop", ShopConfig)
STORE = web.AppKey("store", Store)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WHATSAPP = web.AppKey("whatsapp", WhatsAppClient)
PAYMENTS = web.AppKey("payments", PaymentProvider)
RUNNER = web.AppKey("runner", Runner)
OUTBOX = web.AppKey("outbox", OutboxSender)
JOBS = web.AppKey("jobs", JobRunner)
ALERTS = web.AppKey("alerts", AlertWorker)
WEBHOOK_BODIES = web.AppKey("webhook_bodies", WebhookBodies)
MERCHANT = web.AppKey("merchant", MerchantOrders)
RECONCILER = web.AppKey("reconciler", PaymentReconciler)
REMINDERS = web.AppKey("reminders", ReminderScheduler)
STOCK = web.AppKey("stock", MerchantStock)
RECEIPTS = web.AppKey("receipts", ReadReceipts)
DASHBOARD = web.AppKey("dashboard", Dashboard)
