"""Session infrastructure: tokens, transport, claims and the session container.

The public face of this package is :mod:`bastion.recipe.session`.
"""
