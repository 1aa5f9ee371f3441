using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// Found by the handshake matrix: a side that refuses the peer's Setup has no keys yet and says why in a plaintext
/// TearDown, but the peer, which accepted this side's Setup, read that frame as a record, failed to open it and
/// reported tampering (Network) instead of the refusal. Now it reports the refusal's code and its generic reason.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PlaintextRefusalTests
{
    [Fact]
    public async Task TheAcceptorLearnsWhyADialerRefusedItsSetup()
    {
        // The dialer expects another routing ID: it refuses the acceptor's Setup before any key exists.
        var (dial, accept, listener) = await StartHandshakeAsync(remoteEndpoint: Endpoint.Create("memory", "x", RoutingId.NewRandom()));
        await using var _ = listener;
        var refusal = await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, refusal.Code);
        var told = await Assert.ThrowsAsync<FlowException>(() => accept.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, told.Code);
        Assert.Contains("The peer closed the handshake", told.Message, StringComparison.Ordinal);
        Assert.Contains(Handshake.GenericReason(FlowErrorCode.NotTrusted, HandshakeRole.Dialer), told.Message, StringComparison.Ordinal);
    }
}
