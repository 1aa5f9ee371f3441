using System.Buffers;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// A peer that completes a genuine handshake and then writes whatever records a test wants: a misbehaving but
/// authenticated implementation, to check that the connection rejects each protocol violation cleanly.
/// </summary>
internal sealed class RoguePeer(IFramedConnection framed, HandshakeResult session) : IAsyncDisposable
{
    public static async Task<(RoguePeer Rogue, Task<ManagedConnection> Victim, IAsyncDisposable Listener)> ConnectAsync(
        System.Threading.Channels.ChannelWriter<Transport.Flows.IFlow> accepted)
    {
        var (dialed, acceptedFramed, listener) = await ConnectionTestKit.FramedPairAsync("memory");
        var victimPrincipal = ConnectionTestKit.NewPrincipal("victim");
        var victim = ManagedConnection.AcceptAsync(acceptedFramed, new ConnectionSettings
        {
            Principal = victimPrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(victimPrincipal),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            AcceptedFlows = accepted,
        });
        var roguePrincipal = ConnectionTestKit.NewPrincipal("rogue");
        var session = await Handshake.RunAsync(dialed, HandshakeRole.Dialer, new ConnectionSettings
        {
            Principal = roguePrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(roguePrincipal),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            Options = new ConnectionOptions(),
        }, CancellationToken.None);
        return (new RoguePeer(dialed, session), victim, listener);
    }

    /// <summary>Seals the messages into one record and sends it; returns the exact frame bytes sent.</summary>
    public async Task<byte[]> SendAsync(params Message[] messages)
    {
        var plaintext = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            MessageCodec.Write(plaintext, message);
        }

        var frame = new byte[plaintext.WrittenCount + RecordLayout.TagSize];
        session.SendCipher.Seal(plaintext.WrittenSpan, frame);
        await SendRawAsync(frame);
        return frame;
    }

    /// <summary>Sends a frame as is: replayed, forged or plaintext.</summary>
    public async Task SendRawAsync(byte[] frame)
    {
        frame.CopyTo(framed.GetFrameBuffer(frame.Length));
        framed.CommitFrame();
        await framed.FlushAsync();
    }

    /// <summary>Reads records until a TearDown arrives (or the connection ends) and returns it.</summary>
    public Task<TearDown?> ReadTearDownAsync() => ReadUntilAsync<TearDown>();

    /// <summary>Reads records until a message of type <typeparamref name="T"/> arrives (or the connection ends) and returns it.</summary>
    public async Task<T?> ReadUntilAsync<T>(Func<T, bool>? match = null)
        where T : Message
    {
        using var timeout = new CancellationTokenSource(ConnectionTestKit.TestTimeout);
        while (true)
        {
            FrameReadResult frame;
            try
            {
                frame = await framed.ReadFrameAsync(timeout.Token);
            }
            catch (Transport.FlowException)
            {
                return null;
            }

            if (frame.IsCompleted)
            {
                return null;
            }

            var record = frame.Payload.ToArray();
            var plaintext = new byte[record.Length - RecordLayout.TagSize];
            session.ReceiveCipher.Open(record, plaintext);
            var input = new ReadOnlySequence<byte>(plaintext);
            while (!input.IsEmpty && MessageCodec.TryRead(input, RecordLayout.MaxPlaintext, out var message, out var consumed))
            {
                if (message is T wanted && (match is null || match(wanted)))
                {
                    return wanted;
                }

                input = input.Slice(consumed);
            }
        }
    }

    public async ValueTask DisposeAsync() => await framed.DisposeAsync();
}
