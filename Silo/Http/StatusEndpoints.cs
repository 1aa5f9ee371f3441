using System.Text.Json;
using FlowOrleans.Client;
using FlowOrleans.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// The status page at <c>/</c> and the JSON it polls at <c>/status.json</c>, gathered through the silo's own cluster
/// client (<see cref="FlowClient"/>): the same grain calls <c>flowctl cluster status</c> makes, so the page shows the
/// whole cluster whichever silo serves it.
/// </summary>
internal static class StatusEndpoints
{
    public const string PagePath = "/";

    public const string JsonPath = "/status.json";

    /// <summary>A cluster call that takes longer fails the request rather than piling up polls behind it.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(PagePath, context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            return context.Response.WriteAsync(StatusPage.Html, context.RequestAborted);
        });
        endpoints.MapGet(JsonPath, WriteSnapshotAsync);
    }

    private static async Task WriteSnapshotAsync(HttpContext context)
    {
        var services = context.RequestServices;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json; charset=utf-8";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(s_timeout);
        StatusSnapshot snapshot;
        try
        {
            var flows = services.GetRequiredService<FlowClient>();
            var silos = flows.GetStatusAsync(timeout.Token);
            var pins = flows.GetPinsAsync(timeout.Token);
            snapshot = StatusSnapshot.From(
                services.GetRequiredService<SiloTransport>().SiloKey, await silos, await pins, services.GetRequiredService<TimeProvider>().GetUtcNow());
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The page shows the error and keeps polling; a silo still joining or a cluster call that timed out is not a crash.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await JsonSerializer.SerializeAsync(context.Response.Body, new StatusError(e is OperationCanceledException ? $"the cluster did not answer within {s_timeout.TotalSeconds} s" : e.Message), StatusJsonContext.Default.StatusError, context.RequestAborted);
            return;
        }

        await JsonSerializer.SerializeAsync(context.Response.Body, snapshot, StatusJsonContext.Default.StatusSnapshot, context.RequestAborted);
    }
}
