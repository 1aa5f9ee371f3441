using System.Net;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Silo.Http;
using FlowOrleans.Tests.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Tests.Http;

/// <summary>
/// A one-silo host in this process built as the Silo program builds it: its HTTP server added before Orleans, on a
/// free loopback port (memory storage binds to loopback), with the flow transport and the development trust.
/// </summary>
internal static class HttpSilo
{
    public static IHost Build(int httpPort, bool dashboard = false, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Silo:HttpPort"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Silo:Dashboard"] = dashboard ? "true" : "false",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        builder.AddSiloHttpServer();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(ChildProcesses.FreePort(), ChildProcesses.FreePort(), serviceId: "http-test", clusterId: "http-" + Guid.NewGuid().ToString("N")[..8])
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .AddMemoryGrainStorageAsDefault()
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(TestSiloOptions.Development));
        return builder.Build();
    }

    public static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Asks <paramref name="path"/> until it answers <paramref name="expected"/> (a server still starting refuses connections).</summary>
    public static async Task<string> WaitForAsync(HttpClient http, string path, HttpStatusCode expected, CancellationToken ct)
    {
        var last = "no answer";
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(path, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode == expected)
                {
                    return body;
                }

                last = $"{(int)response.StatusCode} {body.Trim()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Assert.Fail($"{path} never answered {(int)expected}; last: {last}");
            }

            try
            {
                await Task.Delay(20, ct);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{path} never answered {(int)expected}; last: {last}");
            }
        }
    }

    public static async Task DisposeAsync(IHost host)
    {
        if (host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
