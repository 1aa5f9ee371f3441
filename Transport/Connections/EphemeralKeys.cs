using System.Security.Cryptography;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// Ephemeral P-256 key pairs for handshakes, each handed out once and never reused. Generating one is a large share of
/// a handshake's critical path, so one pair is kept ready: taking it starts generating the next on the thread pool,
/// where it overlaps the network round trips of this handshake or the gap before the next. When none is ready (a
/// burst of handshakes) the caller generates its own.
/// </summary>
internal static class EphemeralKeys
{
    private static EphemeralKey? _ready;
    private static int _generating;

    /// <summary>A fresh key pair no other handshake has seen; the caller disposes it.</summary>
    public static EphemeralKey Take()
    {
        var key = Interlocked.Exchange(ref _ready, null) ?? EphemeralKey.Generate();
        Refill();
        return key;
    }

    private static void Refill()
    {
        if (Volatile.Read(ref _ready) is not null || Interlocked.Exchange(ref _generating, 1) != 0)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            try
            {
                var next = EphemeralKey.Generate();
                if (Interlocked.CompareExchange(ref _ready, next, null) is not null)
                {
                    next.Dispose();
                }
            }
            finally
            {
                Volatile.Write(ref _generating, 0);
            }
        }, null);
    }
}

/// <summary>An ephemeral ECDH key pair and its public key in SubjectPublicKeyInfo form, as Setup carries it.</summary>
internal sealed class EphemeralKey : IDisposable
{
    private EphemeralKey(ECDiffieHellman key)
    {
        Key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    public ECDiffieHellman Key { get; }

    public byte[] PublicKey { get; }

    public static EphemeralKey Generate() => new(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));

    public void Dispose() => Key.Dispose();
}
