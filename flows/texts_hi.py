"""The bot's wording in Hindi (Devanagari), bundled with the bot.

Every key of `flows.texts.Texts`, with the same placeholders; a merchant may override any of
them under `[messages.hi]` in config.toml. Command words (*मेनू*, *कार्ट*, …) are the ones
`flows.machine` understands; the English ones always work too.
"""

from collections.abc import Mapping

HINDI: Mapping[str, str] = {
    "language_name": "हिन्दी",
    # --- menu and help
    "welcome": "{shop} में आपका स्वागत है! 👋\nआप क्या करना चाहेंगे?",
    "help": (
        "आप कभी भी ये शब्द लिख सकते हैं:\n"
        "• *मेनू* (menu): फिर से शुरू करें\n"
        "• *कार्ट* (cart): अपना कार्ट देखें\n"
        "• *चेकआउट* (checkout): कार्ट का भुगतान करें\n"
        "• *ऑर्डर* (orders): आपके हाल के ऑर्डर\n"
        "• *भाषा* (language): भाषा बदलें\n"
        "• *रद्द* (cancel): जो चल रहा है उसे रोकें\n"
        "• *stop* / *start*: रिमाइंडर बंद करें, या फिर से चालू करें\n"
        "• *मदद* (help): यह संदेश"
    ),
    "hint": "माफ़ कीजिए, मैं समझ नहीं पाया। फिर से शुरू करने के लिए *मेनू* या मदद के लिए *मदद* लिखें।",
    "cancelled": "रद्द कर दिया। आप क्या करना चाहेंगे?",
    "nothing_to_cancel": "रद्द करने के लिए कुछ नहीं है। आप क्या करना चाहेंगे?",
    "media_not_supported": (
        "मैं सिर्फ़ लिखे हुए संदेश और बटन ही पढ़ सकता हूँ। कृपया अपना संदेश लिखें या *मेनू* लिखें।"
    ),
    "location_not_needed": ("लोकेशन के लिए धन्यवाद! इसकी ज़रूरत तभी है जब मैं आपका डिलीवरी पता पूछूँ।"),
    "unsupported": (
        "माफ़ कीजिए, मैं इस तरह का संदेश नहीं पढ़ सकता। मैं क्या कर सकता हूँ, यह देखने के लिए *मेनू* लिखें।"
    ),
    # --- browsing
    "categories_body": "आप क्या देखना चाहेंगे? एक श्रेणी चुनें।",
    "products_body": "*{category}*: जानकारी देखने के लिए एक सामान चुनें।",
    "category_row_description": "{count} सामान",
    "page_footer": "पेज {page} / {pages}",
    "nothing_available": "माफ़ कीजिए, अभी कुछ भी उपलब्ध नहीं है। कृपया बाद में देखें।",
    "product_details": "*{product}*\n{price}",
    "quantity_prompt": "आपको कितने चाहिए? कोई संख्या दबाएँ या 1 से {max} तक कोई भी संख्या लिखें।",
    "quantity_invalid": "कृपया 1 से {max} तक कोई संख्या लिखें, या *रद्द* लिखें।",
    "quantity_capped": "{product} आप ज़्यादा से ज़्यादा {max} ले सकते हैं, इसलिए कार्ट में {max} हैं।",
    "product_unavailable": "माफ़ कीजिए, {product} अब उपलब्ध नहीं है।",
    # --- cart
    "added_to_cart": "{quantity} × {product} आपके कार्ट में जोड़ दिया।",
    "cart_header": "🛒 *आपका कार्ट*",
    "cart_line": "• {quantity} × {product} ({unit_price} प्रति): {line_total}",
    "cart_total": "*कुल: {total}*",
    "cart_unavailable_line": "• {product} अब उपलब्ध नहीं है, इसे हटा दिया जाएगा।",
    "more_lines": "…और {count}",
    "cart_empty": "आपका कार्ट खाली है।",
    "cart_cleared": "आपका कार्ट अब खाली है।",
    "item_removed": "{product} आपके कार्ट से हटा दिया।",
    "remove_item_body": "कौन-सा सामान हटाऊँ?",
    "items_dropped": "अब उपलब्ध नहीं, इसलिए कार्ट से हटा दिए: {products}।",
    "catalog_unknown_items": "उपलब्ध नहीं, इसलिए कार्ट में नहीं जोड़े: {ids}।",
    "catalog_nothing_valid": "माफ़ कीजिए, आपके ऑर्डर का कोई भी सामान उपलब्ध नहीं है।",
    "catalog_too_many_items": (
        "आपके ऑर्डर में {max} से ज़्यादा सामान हैं, इसलिए सिर्फ़ पहले {max} पढ़े गए। "
        "भुगतान से पहले कृपया अपना कार्ट देख लें।"
    ),
    # --- checkout
    "ask_address": ("कृपया अपना डिलीवरी पता लिखें (मकान, गली, शहर और पिन कोड), या लोकेशन 📍 भेजें।"),
    "confirm_address": "क्या इसी पते पर डिलीवरी करें?\n{address}",
    "address_too_short": (
        "यह पता बहुत छोटा लगता है। कृपया अपना पूरा डिलीवरी पता लिखें (कम से कम {min} अक्षर)।"
    ),
    "address_too_long": "यह पता बहुत लंबा है। कृपया इसे {max} अक्षरों से कम रखें।",
    "amount_too_small": (
        "ऑनलाइन भुगतान के लिए ऑर्डर कम से कम {minimum} का होना चाहिए। कृपया कार्ट में कुछ और जोड़ें।"
    ),
    "preparing_link": "धन्यवाद! ऑर्डर {order_id} के लिए भुगतान लिंक तैयार हो रहा है…",
    "link_on_the_way": "ऑर्डर {order_id} का भुगतान लिंक आ रहा है।",
    # --- payment
    "order_header": "🧾 *ऑर्डर {order_id}*",
    "order_total": "*कुल: {total}*",
    "order_address": "डिलीवरी का पता: {address}",
    "link_validity": "यह भुगतान लिंक {minutes} मिनट तक चलेगा।",
    "pay_body": "ऑर्डर {order_id} के लिए {amount} का सुरक्षित भुगतान करें।",
    "pay_cta": "{amount} भुगतान करें",
    "payment_url": "{url}",
    "already_paid": "ऑर्डर {order_id} का भुगतान हो चुका है। धन्यवाद!",
    "link_expired": ("ऑर्डर {order_id} का भुगतान लिंक समाप्त हो गया है। नए लिंक के लिए नीचे दबाएँ।"),
    "link_cancelled": "ऑर्डर {order_id} का भुगतान लिंक रद्द हो गया। नए लिंक के लिए नीचे दबाएँ।",
    "order_not_open": ("ऑर्डर {order_id} का भुगतान अब नहीं हो सकता। फिर से चेकआउट के लिए नीचे दबाएँ।"),
    "order_cancelled": "ऑर्डर {order_id} रद्द हो गया। आपका कार्ट अभी भी यहीं है।",
    "payment_received": "✅ ऑर्डर {order_id} का भुगतान मिल गया। धन्यवाद!",
    "total_paid": "*कुल भुगतान: {total}*",
    "payment_checking": (
        "ऑर्डर {order_id} का भुगतान मिला है। दुकान इसकी जाँच कर रही है और जल्द ही आपको बताएगी।"
    ),
    "payment_failed": "ऑर्डर {order_id} का आपका भुगतान नहीं हो पाया। आप फिर से कोशिश कर सकते हैं।",
    "payment_failed_reason": "कारण: {reason}",
    "link_creation_failed": (
        "माफ़ कीजिए, ऑर्डर {order_id} के लिए भुगतान लिंक नहीं बन पाया। कृपया फिर से कोशिश करें।"
    ),
    # --- after payment
    "shipped_notice": "📦 आपका ऑर्डर {order_id} रास्ते में है!",
    "shipped_courier": "कूरियर: {courier}",
    "shipped_tracking": "ट्रैकिंग: {tracking}",
    "delivered_notice": "✅ आपका ऑर्डर {order_id} पहुँच गया है। हमसे ख़रीदारी के लिए धन्यवाद!",
    "cancelled_notice": "आपका ऑर्डर {order_id} दुकान ने रद्द कर दिया है।",
    "refunded_notice": (
        "ऑर्डर {order_id} के लिए {amount} वापस कर दिए गए हैं। यह 5–7 कामकाजी दिनों में आपके खाते में आ जाएगा।"
    ),
    # --- cash on delivery
    "cod_offer": "या सामान आने पर नकद दें: *डिलीवरी पर भुगतान* दबाएँ।",
    "cod_over_max": "डिलीवरी पर भुगतान {max} तक के ऑर्डर के लिए है।",
    "cod_confirmed": "✅ ऑर्डर {order_id} पक्का हो गया। डिलीवरी के समय {total} नकद दें।",
    "cod_total": "*डिलीवरी पर देने हैं: {total}*",
    "cod_refused_over_max": (
        "माफ़ कीजिए, डिलीवरी पर भुगतान सिर्फ़ {max} तक के ऑर्डर के लिए है, और ऑर्डर {order_id} "
        "{total} का है। कृपया *अभी भुगतान करें* से ऑनलाइन भुगतान करें।"
    ),
    "cod_not_offered": (
        "माफ़ कीजिए, यह दुकान डिलीवरी पर भुगतान नहीं लेती। कृपया *अभी भुगतान करें* से ऑनलाइन भुगतान करें।"
    ),
    "cod_already": ("ऑर्डर {order_id} डिलीवरी पर भुगतान के लिए पक्का है। सामान आने पर {total} नकद दें।"),
    # --- the customer's own orders
    "orders_body": "आपके हाल के ऑर्डर। सामान और ऑर्डर कहाँ है, यह देखने के लिए एक चुनें।",
    "orders_none": "आपका अभी तक कोई ऑर्डर नहीं है।",
    "order_row_title": "{date} · {total}",
    "order_row_description": "{order_id} · {status}",
    "order_detail_header": "🧾 *ऑर्डर {order_id}* ({date})",
    "order_payment_line": "भुगतान: {status}",
    "order_delivery_line": "डिलीवरी: {status}",
    "order_tracking_link": "ट्रैक करें: {url}",
    "order_unknown": "माफ़ कीजिए, यह ऑर्डर नहीं मिला। अपने ऑर्डर देखने के लिए *ऑर्डर* लिखें।",
    "payment_awaiting": "भुगतान बाक़ी",
    "payment_cod_due": "डिलीवरी पर भुगतान",
    "payment_paid": "भुगतान हो गया",
    "payment_partly_refunded": "कुछ पैसे वापस",
    "payment_refunded": "पैसे वापस",
    "payment_flagged": "दुकान जाँच रही है",
    "payment_expired": "लिंक समाप्त, भुगतान नहीं हुआ",
    "payment_cancelled": "रद्द, भुगतान नहीं हुआ",
    "delivery_unfulfilled": "तैयार हो रहा है",
    "delivery_shipped": "भेज दिया गया",
    "delivery_delivered": "पहुँच गया",
    "delivery_cancelled": "रद्द",
    "reorder_added": "ऑर्डर {order_id} का सामान आज के दाम पर आपके कार्ट में जोड़ दिया।",
    "reorder_price_changed": "{product} अब {price} का है (पहले {old_price})।",
    "reorder_left_out": "अब उपलब्ध नहीं, इसलिए नहीं जोड़े: {products}।",
    "reorder_nothing": "माफ़ कीजिए, ऑर्डर {order_id} का कोई भी सामान अभी उपलब्ध नहीं है।",
    # --- language
    "language_body": "आप कौन-सी भाषा चाहेंगे?",
    # --- titles: the Cloud API limits apply
    "button_browse": "सामान देखें",
    "button_view_cart": "कार्ट देखें",
    "button_help": "मदद",
    "button_checkout": "चेकआउट",
    "button_keep_shopping": "और ख़रीदें",
    "button_remove_item": "सामान हटाएँ",
    "button_clear_cart": "कार्ट खाली करें",
    "button_use_address": "यही पता सही है",
    "button_new_address": "नया पता",
    "button_pay_now": "अभी भुगतान करें",
    "button_pay_on_delivery": "डिलीवरी पर भुगतान",
    "button_cancel_order": "ऑर्डर रद्द करें",
    "button_new_link": "नया लिंक लें",
    "button_try_again": "फिर से कोशिश करें",
    "button_order_again": "फिर से मँगाएँ",
    "button_my_orders": "मेरे ऑर्डर",
    "list_button_categories": "श्रेणियाँ",
    "list_button_products": "सामान",
    "list_button_cart": "कार्ट का सामान",
    "list_button_menu": "मेनू",
    "list_button_orders": "आपके ऑर्डर",
    "list_button_languages": "भाषाएँ",
    "row_browse": "सामान देखें",
    "row_view_cart": "कार्ट देखें",
    "row_my_orders": "मेरे ऑर्डर",
    "row_language": "भाषा / Language",
    "row_more": "और…",
    "row_previous": "पिछला",
    "section_categories": "श्रेणियाँ",
    "section_cart": "आपका कार्ट",
    "section_pages": "और पेज",
    "section_menu": "मेनू",
    "section_orders": "हाल के ऑर्डर",
    "section_languages": "भाषाएँ",
    # --- stock
    "product_sold_out": "माफ़ कीजिए, {product} का स्टॉक ख़त्म हो गया है।",
    "sold_out_tag": "स्टॉक ख़त्म",
    "stock_left": "सिर्फ़ {left} बचे हैं।",
    "stock_capped": "{product} के सिर्फ़ {left} बचे हैं, इसलिए आपके कार्ट में {left} हैं।",
    "sold_out_dropped": "स्टॉक ख़त्म, इसलिए आपके कार्ट से हटा दिया गया: {products}।",
    # --- reminders
    "payment_reminder": (
        "⏰ याद दिला रहे हैं: ऑर्डर {order_id} का भुगतान अभी बाकी है। "
        "अगर आप और रिमाइंडर नहीं चाहते तो *stop* लिखें।"
    ),
    "payment_reminder_fresh_link": (
        "⏰ याद दिला रहे हैं: ऑर्डर {order_id} का भुगतान लिंक समाप्त हो गया था, इसलिए यह नया लिंक है। "
        "अगर आप और रिमाइंडर नहीं चाहते तो *stop* लिखें।"
    ),
    "cart_reminder": "🛒 आपके कार्ट में कुछ सामान रह गया है। क्या आप चेकआउट करना चाहेंगे?",
    "reminders_stopped": "ठीक है, अब हम आपको रिमाइंडर नहीं भेजेंगे। फिर से चालू करने के लिए *start* लिखें।",
    "reminders_started": "रिमाइंडर फिर से चालू हैं। बंद करने के लिए कभी भी *stop* लिखें।",
}
