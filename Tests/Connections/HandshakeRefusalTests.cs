using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// Issue 16 item 7: a refusal tells the peer its error code and a generic reason, never the refusing side's policy
/// (its patterns, which of the peer's names failed and why); the full reason goes to the refusing side's log.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class HandshakeRefusalTests
{
    private const string SecretPattern = "root:only-the-ops-team";

    private static async Task<(FlowException Dialer, FlowException Acceptor)> HandshakeAsync(
        Func<Principal, IPeerAuthorizer> dialerAuthorizer, Func<Principal, IPeerAuthorizer> acceptorAuthorizer,
        CapturingLogger dialerLog, CapturingLogger acceptorLog)
    {
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await using var _ = listener;
        using var acceptor = NewPrincipal("acceptor-name");
        using var dialer = NewPrincipal("dialer-name");
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = acceptorAuthorizer(acceptor),
            LocalEndpoint = LocalEndpoint(),
            Logger = acceptorLog,
        });
        var dial = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = dialerAuthorizer(dialer),
            LocalEndpoint = LocalEndpoint(),
            Logger = dialerLog,
        });
        var dialError = await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout));
        var acceptError = await Assert.ThrowsAsync<FlowException>(() => accept.WaitAsync(TestTimeout));
        return (dialError, acceptError);
    }

    [Fact]
    public async Task TheAcceptorsRefusalCarriesItsCodeButNotItsPolicyAndItsLogHasTheWholeReason()
    {
        var dialerLog = new CapturingLogger();
        var acceptorLog = new CapturingLogger();
        var (dialer, acceptor) = await HandshakeAsync(
            PeerAuthorizers.AllowEveryone, p => PeerAuthorizers.RequireBlessings(p, SecretPattern), dialerLog, acceptorLog);

        Assert.Equal(FlowErrorCode.NotTrusted, dialer.Code);
        Assert.DoesNotContain(SecretPattern, dialer.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("dialer-name", dialer.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not recognised", dialer.Message, StringComparison.Ordinal);

        // The acceptor itself knows everything, and says so in its log.
        Assert.Equal(FlowErrorCode.NotTrusted, acceptor.Code);
        Assert.Contains(SecretPattern, acceptor.Message, StringComparison.Ordinal);
        Assert.Contains(SecretPattern, acceptorLog.All, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretPattern, dialerLog.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDialersRefusalCarriesItsCodeButNotItsPolicyAndItsLogHasTheWholeReason()
    {
        var dialerLog = new CapturingLogger();
        var acceptorLog = new CapturingLogger();
        var (dialer, acceptor) = await HandshakeAsync(
            p => PeerAuthorizers.RequireBlessings(p, SecretPattern), PeerAuthorizers.AllowEveryone, dialerLog, acceptorLog);

        Assert.Equal(FlowErrorCode.NotTrusted, acceptor.Code);
        Assert.DoesNotContain(SecretPattern, acceptor.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("acceptor-name", acceptor.Message, StringComparison.Ordinal);

        Assert.Equal(FlowErrorCode.NotTrusted, dialer.Code);
        Assert.Contains(SecretPattern, dialer.Message, StringComparison.Ordinal);
        Assert.Contains(SecretPattern, dialerLog.All, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretPattern, acceptorLog.All, StringComparison.Ordinal);
    }
}
