using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class HandshakeTests
{
    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task BothSidesLearnEachOthersIdentity(string protocol)
    {
        await using var peers = await ConnectAsync(protocol);
        Assert.Equal(peers.Acceptor.LocalEndpoint, peers.Dialer.RemoteEndpoint);
        Assert.Equal(peers.Dialer.LocalEndpoint, peers.Acceptor.RemoteEndpoint);
        Assert.False(peers.Dialer.RemoteEndpoint.RoutingId.IsNull);
        Assert.Equal(["acceptor"], peers.Dialer.RemoteBlessings.Names);
        Assert.Equal(["dialer"], peers.Acceptor.RemoteBlessings.Names);
        Assert.Equal(peers.Acceptor.LocalBlessings, peers.Dialer.RemoteBlessings);
        Assert.Equal((ushort)1, peers.Dialer.CommonVersion);
        Assert.Equal(CipherSuite.Aes256Gcm, peers.Dialer.Cipher);
        Assert.Equal(HandshakeRole.Dialer, peers.Dialer.Role);
        Assert.Equal(HandshakeRole.Acceptor, peers.Acceptor.Role);
    }

    [Fact]
    public async Task HighestCommonVersionAndDialersPreferredCipherWin()
    {
        await using var peers = await ConnectAsync(
            dialerOptions: o => { o.MaxVersion = 1; o.Ciphers = [CipherSuite.ChaCha20Poly1305, CipherSuite.Aes256Gcm]; },
            acceptorOptions: o => o.Ciphers = [CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305]);
        Assert.Equal(CipherSuite.ChaCha20Poly1305, peers.Dialer.Cipher);
        Assert.Equal(CipherSuite.ChaCha20Poly1305, peers.Acceptor.Cipher);
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteMessageAndCloseAsync([new byte[] { 1, 2, 3 }]);
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadToEndAsync(accepted));
    }

    [Fact]
    public async Task VersionRangesThatDoNotOverlapFailClearly()
    {
        var (dialTask, acceptTask, listener) = await StartHandshakeAsync(
            acceptorOptions: new ConnectionOptions { MinVersion = 2, MaxVersion = 3 },
            dialerOptions: new ConnectionOptions { MinVersion = 1, MaxVersion = 1 });
        await using var _ = listener;
        var e = await Assert.ThrowsAsync<FlowException>(() => dialTask);
        Assert.Equal(FlowErrorCode.BadState, e.Code);
        Assert.Contains("No common protocol version", e.Message);
        var a = await Assert.ThrowsAsync<FlowException>(() => acceptTask);
        Assert.Equal(FlowErrorCode.BadState, a.Code);
    }

    [Fact]
    public async Task DialersAuthorizerRefusingTheAcceptorFailsNotTrusted()
    {
        var refuse = new RefusingAuthorizer(NewPrincipal("x"));
        var e = await Assert.ThrowsAsync<FlowException>(() => ConnectAsync(dialerAuthorizer: refuse));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task AcceptorsPolicyRefusingTheDialerFailsTheDialNotTrusted()
    {
        var (dialTask, acceptTask, listener) = await StartHandshakeAsync(acceptorAuthorizer: p => new RefusingAuthorizer(p));
        await using var _ = listener;
        var d = await Assert.ThrowsAsync<FlowException>(() => dialTask);
        Assert.Equal(FlowErrorCode.NotTrusted, d.Code);
        Assert.Contains("The acceptor does not trust this peer", d.Message); // the code and a generic reason only (issue 16 item 7)
        var a = await Assert.ThrowsAsync<FlowException>(() => acceptTask);
        Assert.Equal(FlowErrorCode.NotTrusted, a.Code);
    }

    [Fact]
    public async Task DialingTheWrongRoutingIdFailsNotTrusted()
    {
        var (dialTask, acceptTask, listener) = await StartHandshakeAsync(
            remoteEndpoint: Endpoint.Create("memory", "x", RoutingId.NewRandom()));
        await using var _ = listener;
        var d = await Assert.ThrowsAsync<FlowException>(() => dialTask);
        Assert.Equal(FlowErrorCode.NotTrusted, d.Code);
        await Assert.ThrowsAsync<FlowException>(() => acceptTask);
    }

    [Fact]
    public async Task APeerThatNeverAnswersIsDroppedAtTheHandshakeTimeout()
    {
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await using var _ = listener;
        await using var silent = accepted;
        var time = new FakeTimeProvider();
        var dialer = NewPrincipal("dialer");
        var dialTask = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = PeerAuthorizers.AllowEveryone(dialer),
            LocalEndpoint = LocalEndpoint(),
            Options = new ConnectionOptions { HandshakeTimeout = TimeSpan.FromSeconds(5), TimeProvider = time },
        });
        await Task.Delay(50);
        Assert.False(dialTask.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        var e = await Assert.ThrowsAsync<FlowException>(() => dialTask.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Network, e.Code);
        Assert.Contains("did not finish", e.Message);
    }

    [Fact]
    public async Task ATamperedHandshakeRecordFailsTheHandshake()
    {
        // Frame 0 is the plaintext Setup; frame 1 is the acceptor's encrypted Auth: flip a bit in its ciphertext.
        var e = await Assert.ThrowsAnyAsync<FlowException>(() => ConnectAsync(
            wrapAcceptor: f => new FreezableFramedConnection(f).CorruptAfter(1, 20, 0x01)));
        Assert.True(e.Code is FlowErrorCode.Network or FlowErrorCode.Auth, e.ToString());
    }

    [Fact]
    public async Task ATamperedSetupBreaksTheTranscriptSoSignaturesFail()
    {
        // Changing a byte of the nonce in the plaintext Setup is not detectable by parsing; only the signed
        // transcript catches it. The nonce sits at the end of the Setup frame.
        var e = await Assert.ThrowsAnyAsync<FlowException>(() => ConnectAsync(
            wrapDialer: f => new FreezableFramedConnection(f).CorruptAfter(0, -1, 0x80)));
        Assert.True(e.Code is FlowErrorCode.Auth or FlowErrorCode.Network, e.ToString());
    }

    private sealed class RefusingAuthorizer(Principal principal) : IPeerAuthorizer
    {
        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken)
            => throw new FlowException(FlowErrorCode.NotTrusted, "This test trusts nobody.");

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames)
            => (principal.DefaultBlessings, Discharges.Empty);
    }
}
