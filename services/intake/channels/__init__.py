"""The citizen channels, each in its real wire format, turned into InboundMessage."""
