using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Managers on one in-memory network whose principals are blessed by one root (<c>root:alice</c>, <c>root:mallory</c>,
/// ...) and recognise it, so authorizers can tell them apart by name. Disposes every manager and principal it made.
/// </summary>
internal sealed class TrustNetwork : IAsyncDisposable
{
    private readonly List<FlowManager> _managers = [];
    private readonly List<Principal> _principals = [];

    public TrustNetwork()
    {
        Protocols = new ProtocolRegistry();
        Protocols.Register("memory", new MemoryProtocol());
        Root = Principal.CreateInMemory();
        _principals.Add(Root);
        RootBlessings = Root.BlessSelf("root");
    }

    public ProtocolRegistry Protocols { get; }

    public Principal Root { get; }

    public Blessings RootBlessings { get; }

    /// <summary>A principal blessed <c>root:{name}</c> (with <paramref name="caveats"/>, unconstrained if none) that recognises the root.</summary>
    public Principal Blessed(string name, params Caveat[] caveats)
    {
        var principal = Principal.CreateInMemory();
        _principals.Add(principal);
        principal.DefaultBlessings = caveats.Length == 0
            ? Root.Bless(principal.PublicKey, RootBlessings, name, Caveat.Unconstrained)
            : Root.Bless(principal.PublicKey, RootBlessings, name, caveats[0], caveats[1..]);
        principal.Roots.AddRootsOf(RootBlessings);
        return principal;
    }

    /// <summary>A manager on this network for <paramref name="principal"/>; disposed with the network.</summary>
    public FlowManager Manager(Principal principal, Action<FlowManagerOptions>? configure = null)
    {
        var options = new FlowManagerOptions
        {
            Principal = principal,
            Protocols = Protocols,
            PinBackoffMin = TimeSpan.FromMilliseconds(20),
            PinBackoffMax = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        var manager = new FlowManager(options);
        _managers.Add(manager);
        return manager;
    }

    public static IPeerAuthorizer Require(FlowManager manager, params string[] patterns) =>
        PeerAuthorizers.RequireBlessings(manager.Principal, patterns);

    public static IPeerAuthorizer Anyone(FlowManager manager) => PeerAuthorizers.AllowEveryone(manager.Principal);

    /// <summary>Opens a flow from <paramref name="from"/> and writes one byte, so the peer's accept loop sees it.</summary>
    public static async Task<IFlow> OpenAsync(FlowManager from, Endpoint to, IPeerAuthorizer authorizer)
    {
        var flow = await from.DialAsync(to, authorizer).WaitAsync(TestTimeout);
        await flow.WriteAsync(new byte[] { 1 }).AsTask().WaitAsync(TestTimeout);
        return flow;
    }

    /// <summary>The blessing names the far end of <paramref name="flow"/> presented.</summary>
    public static string Peer(IFlow flow) => string.Join(",", flow.Connection.RemoteBlessings.Names);

    /// <summary>Waits until the far end of <paramref name="flow"/> refuses or drops it, and returns the error the opener sees.</summary>
    public static async Task<FlowException> RefusedAsync(IFlow flow)
    {
        var buffer = new byte[16];
        return await Assert.ThrowsAsync<FlowException>(async () =>
        {
            while (await flow.ReadAsync(buffer).AsTask().WaitAsync(TestTimeout) > 0)
            {
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }

        foreach (var principal in _principals)
        {
            principal.Dispose();
        }
    }
}
