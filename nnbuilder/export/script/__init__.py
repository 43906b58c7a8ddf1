"""script"""
