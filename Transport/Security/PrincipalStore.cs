using System.Buffers;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// On-disk form of a <see cref="Principal"/>: <c>privatekey.pem</c> (PKCS#8, mode 0600 on Unix) and
/// <c>state.bin</c> (roots and default blessings, signed by the key so a tampered file is refused).
/// Files are written to a temporary name and renamed, so a crash never leaves a half-written principal.
/// </summary>
/// <remarks>state.bin (v1): <c>u8 version, u32 length + roots, u32 length + blessings, 64-byte signature</c>.</remarks>
internal static class PrincipalStore
{
    private const string KeyFileName = "privatekey.pem";
    private const string StateFileName = "state.bin";
    private const byte StateVersion = 1;
    private const int MaxKeyFileBytes = 16 * 1024;
    private const int MaxStateFileBytes = 4 * 1024 * 1024;
    private const string P256Oid = "1.2.840.10045.3.1.7";

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static bool Exists(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return File.Exists(Path.Combine(directory, KeyFileName));
    }

    public static void Save(string directory, ECDsa key, BlessingRoots roots, Blessings blessings)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var state = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteByte(state, StateVersion);
        WriteSection(state, roots.Encode);
        WriteSection(state, blessings.Encode);
        var signature = SignatureScheme.Sign(key, SignatureScheme.StatePurpose, state.WrittenSpan);
        SecurityWriter.WriteBytes(state, signature);

        var pem = System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem());
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, OwnerOnlyDirectory);
            }

            WriteAtomically(Path.Combine(directory, KeyFileName), pem);
            WriteAtomically(Path.Combine(directory, StateFileName), state.WrittenSpan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlowException(FlowErrorCode.BadState, $"Could not save the principal to \"{directory}\".", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pem);
        }
    }

    public static (ECDsa Key, BlessingRoots Roots, Blessings Blessings) Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        byte[] pem;
        byte[] state;
        try
        {
            pem = ReadBounded(Path.Combine(directory, KeyFileName), MaxKeyFileBytes);
            state = ReadBounded(Path.Combine(directory, StateFileName), MaxStateFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"No readable principal in \"{directory}\".", e);
        }

        var key = ImportKey(pem);
        try
        {
            var (roots, blessings) = ReadState(state, key);
            return (key, roots, blessings);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static ECDsa ImportKey(byte[] pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid?.Value != P256Oid)
            {
                throw new FlowException(FlowErrorCode.BadArg, "The principal's key is not a P-256 key.");
            }

            return key;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new FlowException(FlowErrorCode.BadArg, "The principal's private key file is not a valid PKCS#8 PEM key.", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pem);
        }
    }

    private static (BlessingRoots Roots, Blessings Blessings) ReadState(byte[] state, ECDsa key)
    {
        if (state.Length < SignatureScheme.SignatureSize)
        {
            throw new FlowException(FlowErrorCode.BadArg, "The principal's state file is truncated.");
        }

        var signed = state.AsSpan(0, state.Length - SignatureScheme.SignatureSize);
        var signature = state.AsSpan(signed.Length);
        if (!SignatureScheme.Verify(key, SignatureScheme.StatePurpose, signed, signature))
        {
            throw new FlowException(FlowErrorCode.BadArg, "The principal's state file was not written by its key (tampered or mismatched).");
        }

        var reader = new SecurityReader(signed, "principal state");
        if (reader.ReadByte() != StateVersion)
        {
            throw reader.Malformed("unsupported version");
        }

        var rootsReader = new SecurityReader(ReadSection(ref reader), "blessing roots");
        var roots = BlessingRoots.Decode(ref rootsReader);
        rootsReader.EnsureEnd();
        var blessings = Blessings.Decode(ReadSection(ref reader));
        reader.EnsureEnd();
        return (roots, blessings);
    }

    private static void WriteSection(ArrayBufferWriter<byte> writer, Action<IBufferWriter<byte>> write)
    {
        var section = new ArrayBufferWriter<byte>();
        write(section);
        SecurityWriter.WriteUInt32(writer, (uint)section.WrittenCount);
        SecurityWriter.WriteBytes(writer, section.WrittenSpan);
    }

    private static ReadOnlySpan<byte> ReadSection(ref SecurityReader reader)
    {
        var length = reader.ReadUInt32();
        if (length > MaxStateFileBytes)
        {
            throw reader.Malformed("section too large");
        }

        return reader.ReadBytes((int)length);
    }

    private static byte[] ReadBounded(string path, int maxBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length > maxBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"\"{path}\" is larger than {maxBytes} bytes.");
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> contents)
    {
        var temporary = path + ".tmp";

        // Delete first so CreateNew applies the owner-only mode; an old file would keep its own mode.
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(contents);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
