"""Policies that act in our tasks: scripted experts (and their failure modes), learned agents."""
