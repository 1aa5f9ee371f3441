using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// The probes' endpoints (deploy/k8s uses these paths on the <c>http</c> port): liveness answers 200 as long as the
/// process serves requests at all; readiness answers 200 only while <see cref="SiloReadiness"/> says so, 503 with the
/// reason otherwise. Plain text, never cached.
/// </summary>
internal static class HealthEndpoints
{
    public const string LivenessPath = "/health/live";

    public const string ReadinessPath = "/health/ready";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(LivenessPath, context => WriteAsync(context, StatusCodes.Status200OK, "live"));
        endpoints.MapGet(ReadinessPath, context =>
        {
            var reason = context.RequestServices.GetRequiredService<SiloReadiness>().NotReadyReason();
            return reason is null
                ? WriteAsync(context, StatusCodes.Status200OK, "ready")
                : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "not ready: " + reason);
        });
    }

    private static Task WriteAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text + "\n", context.RequestAborted);
    }
}
