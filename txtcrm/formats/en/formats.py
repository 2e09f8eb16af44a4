# Date formats of the pages in English (docs/user-guide.md, "Languages"): day, short
# month, 24-hour clock, e.g. "29 Nov 2026, 14:05". Django's own "en" formats are
# American ("Nov. 29").
DATE_FORMAT = "j M Y"  # 29 Nov 2026
TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "D j M Y, H:i"  # Sun 29 Nov 2026, 14:05 (campaign moments)
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 29 Nov 2026, 14:05
MONTH_DAY_FORMAT = "j M"  # 29 Nov
