namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Every system the harness knows, in report order. Adding a system (such as our own <c>flow</c>) is one line here.
/// </summary>
internal static class BenchSystems
{
    public static IReadOnlyList<BenchSystemInfo> All { get; } =
    [
        new("tcp", "raw loopback sockets, the ceiling; every flow is its own connection", TcpSystem.StartAsync),
        new("tls", "SslStream TLS 1.3, mutual ECDSA P-256; every flow is its own connection", TlsSystem.StartAsync),
        new("nerdbank", "Nerdbank.Streams MultiplexingStream protocol v3 over TLS 1.3, one connection", NerdbankSystem.StartOverTlsAsync),
        new("nerdbank-plain", "the same MultiplexingStream v3 over bare TCP: the multiplexer's own cost", NerdbankSystem.StartPlainAsync),
        new("flow", "our Transport as users use it: FlowManager dial/accept, default options, IFlow.AsStream(); one connection", FlowSystem.StartAsync),
        new("orleans", "a client flow through a 1-silo in-process cluster to an outside FlowManager (relay scenarios only)", OrleansSystem.StartAsync),
        new("orleans-2silo", "Orleans clients through a 2-silo cluster over loopback TCP to an outside echo FlowManager (scale-clients scenarios only)", TwoSiloSystem.StartAsync),
    ];

    /// <summary>The system that ratios are computed against when it is selected.</summary>
    public const string DefaultBaseline = "tls";
}
