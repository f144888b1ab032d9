"""Weak supervision: labeling functions, their analysis, and the label model that turns
their votes into weak labels (Django app label ``weak_supervision``)."""
