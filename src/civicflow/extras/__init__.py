"""At the edge of the library: the demo district and the HTML report.

Built only on the public application and views; nothing below imports them.
"""
