"""The `ajo` layout: the platform's own dataset exports, read as it writes them."""
