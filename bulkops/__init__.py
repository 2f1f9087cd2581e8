"""bulkops: bulk operations on the senders of Twilio Messaging Services."""

__version__ = "0.1.0"
