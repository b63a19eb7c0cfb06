"""The JSON API: parse a request, call one service, serialise the answer."""
