"""Recipes: the units users compose in ``bastion.init(recipe_list=[...])``."""
