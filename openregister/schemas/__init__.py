"""The wire format: marshmallow schemas in camelCase, one module per resource."""
