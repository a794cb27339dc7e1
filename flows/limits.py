"""WhatsApp Cloud API limits, in characters (not bytes), from the shared REFERENCE.md.

The outgoing message models read these, so a message that Meta would reject (error 131009)
cannot be constructed.
"""

TEXT_BODY_MAX = 4096
TEMPLATE_PARAMETER_MAX = 1024  # a body parameter fills a body of at most 1024 characters

INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60

BUTTONS_MIN = 1
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256

LIST_BUTTON_LABEL_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
LIST_SECTION_TITLE_MAX = 24

CTA_DISPLAY_TEXT_MAX = 20

# Razorpay payment links.
PAYMENT_LINK_MIN_AMOUNT = 100  # paise
PAYMENT_LINK_REFERENCE_ID_MAX = 40
PAYMENT_LINK_DESCRIPTION_MAX = 2048
PAYMENT_LINK_MIN_EXPIRY_MINUTES = 16  # Razorpay wants >= 15 minutes ahead; one spare for clock skew
PAYMENT_LINK_NOTE_VALUE_MAX = 255
