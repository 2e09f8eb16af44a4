# Date formats of the pages in Italian (docs/user-guide.md, "Languages"): as the English
# ones, with Italian's lower-case month and weekday names, e.g. "29 nov 2026, 14:05".
DATE_FORMAT = "j b Y"  # 29 nov 2026
TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "D j b Y, H:i"  # dom 29 nov 2026, 14:05
SHORT_DATETIME_FORMAT = "j b Y, H:i"  # 29 nov 2026, 14:05
MONTH_DAY_FORMAT = "j b"  # 29 nov
