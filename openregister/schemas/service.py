from marshmallow import Schema, fields


class IndexLinksSchema(Schema):
    api = fields.String(required=True, metadata={"description": "Base URL of the OpenRegister API"})
    health = fields.String(required=True, metadata={"description": "The health check"})
    docs = fields.String(required=True, metadata={"description": "The docs page (Swagger UI)"})
    openapi = fields.String(required=True, metadata={"description": "The OpenAPI document"})


class IndexSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    links = fields.Nested(IndexLinksSchema, required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok, or error when a check failed"})
    version = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class HeartbeatSchema(Schema):
    status = fields.String(required=True)
    timestamp = fields.String(required=True)
    message = fields.String(required=True)


class StatusSchema(Schema):
    installed = fields.Boolean(required=True)
    maintenance = fields.Boolean(required=True)
    needsDbUpgrade = fields.Boolean(required=True)
    version = fields.String(required=True)
    versionstring = fields.String(required=True)
    edition = fields.String(required=True)
    productname = fields.String(required=True)
    extendedSupport = fields.Boolean(required=True)


class OcsMetaSchema(Schema):
    status = fields.String(required=True)
    statuscode = fields.Integer(required=True)
    message = fields.String(required=True)


class CapabilitiesDataSchema(Schema):
    version = fields.Dict(required=True)
    capabilities = fields.Dict(required=True)


class OcsBodySchema(Schema):
    meta = fields.Nested(OcsMetaSchema, required=True)
    data = fields.Nested(CapabilitiesDataSchema, required=True)


class CapabilitiesSchema(Schema):
    ocs = fields.Nested(OcsBodySchema, required=True)
