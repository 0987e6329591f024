"""The provisions domain."""
