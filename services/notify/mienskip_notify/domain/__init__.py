"""What notify decides, in plain Python: who hears about an event, how, in which language."""
