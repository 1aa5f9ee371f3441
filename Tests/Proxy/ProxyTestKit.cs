using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Proxy;

/// <summary>Proxies and managers over real tcp sockets for proxy tests.</summary>
internal static class ProxyTestKit
{
    public static FlowManager NewManager(string name) => new(new FlowManagerOptions
    {
        Principal = NewPrincipal(name),
        PinBackoffMin = TimeSpan.FromMilliseconds(20),
        PinBackoffMax = TimeSpan.FromMilliseconds(200),
    });

    public static async Task<(ProxyServer Proxy, Endpoint Endpoint)> StartProxyAsync(
        string address = "127.0.0.1:0", Action<ProxyServerOptions>? configure = null)
    {
        var options = new ProxyServerOptions { Principal = NewPrincipal("proxy") };
        configure?.Invoke(options);
        var proxy = new ProxyServer(options);
        var endpoint = await proxy.ListenAsync("tcp", address);
        return (proxy, endpoint);
    }

    public static IPeerAuthorizer Anyone(FlowManager manager) => PeerAuthorizers.AllowEveryone(manager.Principal);

    /// <summary>Waits, change by change, until <paramref name="condition"/> holds for the manager's status.</summary>
    public static async Task<ListenStatus> WaitForStatusAsync(FlowManager manager, Func<ListenStatus, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        while (true)
        {
            var status = manager.Status;
            if (condition(status))
            {
                return status;
            }

            await status.Dirty.WaitAsync(timeout.Token);
        }
    }

    public static bool IsRegistered(ListenStatus status, string name) =>
        status.ProxyErrors.TryGetValue(name, out var error) && error is null && status.Endpoints.Any(e => e.Routes.Count > 0);

    public static bool HasFailed(ListenStatus status, string name) =>
        status.ProxyErrors.TryGetValue(name, out var error) && error is { Code: FlowErrorCode.Proxy };
}
