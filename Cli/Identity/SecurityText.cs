using System.Security.Cryptography;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.Identity;

/// <summary>
/// The text forms the identity verbs exchange. A public key is PEM <c>PUBLIC KEY</c> (its DER SubjectPublicKeyInfo,
/// which openssl reads too) or that DER in base64; blessings are PEM <c>FLOWORLEANS BLESSINGS</c> around
/// <see cref="Blessings.ToBytes"/>, or that in base64. Both fit in a Kubernetes Secret or a shell variable.
/// </summary>
internal static class SecurityText
{
    public const string PublicKeyLabel = "PUBLIC KEY";
    public const string BlessingsLabel = "FLOWORLEANS BLESSINGS";

    public static string PublicKeyPem(PublicKey key) => new string(PemEncoding.Write(PublicKeyLabel, key.Bytes.Span)) + "\n";

    public static string BlessingsPem(Blessings blessings) => new string(PemEncoding.Write(BlessingsLabel, blessings.ToBytes())) + "\n";

    public static string Base64(ReadOnlyMemory<byte> bytes) => Convert.ToBase64String(bytes.Span);

    /// <summary>
    /// A public key from <paramref name="value"/>: a principal directory, a file holding a PEM or base64 key, or the
    /// base64 key itself. <paramref name="argument"/> names the option in the failure.
    /// </summary>
    public static PublicKey ReadPublicKey(string argument, string value)
    {
        if (Directory.Exists(value))
        {
            using var principal = PrincipalDirectory.Load(argument, value);
            return principal.PublicKey;
        }

        var text = File.Exists(value) ? File.ReadAllText(value) : value;
        const string Expected = "a principal directory, a file with a PEM or base64 public key, or a base64 public key (flowctl principal show DIR --public-key)";
        if (!TryDecode(text, PublicKeyLabel, out var der))
        {
            throw new CliFailure(File.Exists(value) ? ExitCode.BadInput : ExitCode.BadArgument, $"{argument} '{Shorten(value)}' is not a public key; expected {Expected}");
        }

        try
        {
            return PublicKey.FromBytes(der);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{Shorten(value)}' is not a P-256 public key ({e.Message}); expected {Expected}", e);
        }
    }

    /// <summary>Blessings from a file written by <c>flowctl bless</c>.</summary>
    public static Blessings ReadBlessings(string argument, string path)
    {
        const string Expected = "a blessings file written by 'flowctl bless'";
        if (!File.Exists(path))
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{path}' does not exist; expected {Expected}");
        }

        if (!TryDecode(File.ReadAllText(path), BlessingsLabel, out var bytes))
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{path}' holds no blessings; expected {Expected}");
        }

        try
        {
            return Blessings.Decode(bytes);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput, $"{argument} '{path}' holds malformed blessings ({e.Message}); expected {Expected}", e);
        }
    }

    private static bool TryDecode(string text, string label, out byte[] bytes)
    {
        bytes = [];
        if (PemEncoding.TryFind(text, out var fields))
        {
            if (!text.AsSpan()[fields.Label].SequenceEqual(label))
            {
                return false;
            }

            bytes = Convert.FromBase64String(text[fields.Base64Data]);
            return true;
        }

        var buffer = new byte[text.Length];
        if (Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written > 0)
        {
            bytes = buffer[..written];
            return true;
        }

        return false;
    }

    private static string Shorten(string value) => value.Length > 60 ? value[..57] + "..." : value;
}
