using Microsoft.OpenApi;

namespace Tuning.Api.Service;

/// <summary>
/// What the OpenAPI document at /openapi/v1.json says beyond what the endpoints' metadata gives: the study file's
/// schema as the body of <c>POST /api/studies</c>, the API keys as security schemes on every /api operation, and
/// server URLs without a trailing slash (a path joined to one would start with two).
/// </summary>
public static class ApiDocument
{
    /// <summary>The scheme of a key sent as <c>X-Api-Key: KEY</c>.</summary>
    public const string ApiKeyScheme = "apiKey";

    /// <summary>The scheme of a key sent as <c>Authorization: Bearer KEY</c>.</summary>
    public const string BearerScheme = "bearer";

    public static void Complete(OpenApiDocument document)
    {
        foreach (var server in document.Servers ?? [])
            if (server.Url is { Length: > 1 } url) server.Url = url.TrimEnd('/');

        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas["StudyFile"] = StudyFileSchema.Build();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key",
            Description = "A key of this server's keys file; it sees its namespace's studies only. A server without keys takes loopback requests without one.",
        };
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "The same key, as Authorization: Bearer KEY.",
        };

        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/api/", StringComparison.Ordinal) || item.Operations is null) continue;
            foreach (var operation in item.Operations.Values)
            {
                // Either header: two requirements, each met alone.
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
                ];
                // A study file's text in any of its types is a study file, not any string.
                if (operation.RequestBody?.Content is { } content && path == "/api/studies")
                    foreach (var type in content.Values)
                        type.Schema = new OpenApiSchemaReference("StudyFile", document);
            }
        }
    }
}
