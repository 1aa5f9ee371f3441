using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// Decides whether a unix listener may replace what is at its path: only a socket file whose listener is gone (one
/// that refuses connections), as a crashed process leaves it. A regular file, however small, a link (even to a stale
/// socket), a pipe or a directory stays. .NET has no API for a file's type, and connecting is refused for any file that
/// is not a listening socket, so the type comes from Linux's <c>statx</c> (its layout is the same on every
/// architecture); where that is missing nothing is ever replaced.
/// </summary>
internal static partial class UnixSocketFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;
    private const int FileTypeMask = 0xF000;
    private const int SocketFileType = 0xC000;

    /// <summary>True when <paramref name="path"/> is a socket file that refuses connections; false for anything else or when unsure.</summary>
    public static async ValueTask<bool> IsStaleSocketAsync(UnixDomainSocketEndPoint endPoint, string path, CancellationToken ct)
    {
        if (IsSocket(path) != true)
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(endPoint, ct).ConfigureAwait(false);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Whether the path itself (not a link's target) is a socket; null when the platform cannot say.</summary>
    internal static bool? IsSocket(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var name = new byte[Encoding.UTF8.GetByteCount(path) + 1]; // NUL-terminated
        Encoding.UTF8.GetBytes(path, name);
        var buffer = new byte[StatxSize];
        try
        {
            if (Statx(AtFdCwd, name, AtSymlinkNoFollow, StatxType, buffer) != 0)
            {
                return false; // gone, or not ours to inspect: not a socket we may replace
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // a C library without statx (glibc before 2.28, older musl)
        }

        var mode = BitConverter.ToUInt16(buffer, StatxModeOffset);
        return (mode & FileTypeMask) == SocketFileType;
    }

    [DllImport("libc", EntryPoint = "statx", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int dirFd, byte[] path, int flags, uint mask, byte[] statx);
}
